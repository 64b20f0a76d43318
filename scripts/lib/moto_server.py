"""moto server, with DynamoDB's TagResource as AWS documents it.

    python moto_server.py -H 127.0.0.1 -p PORT     (the arguments of moto_server)

moto 5.2.5 appends a tag whose key the table already has, so the table ends up with the key
twice; DynamoDB overwrites the value ("If a tag with the same key exists, its value is
replaced"). The management API changes override tags in place, so the emulator must behave as
AWS does: this replaces moto's tag_resource before starting the server. Everything else is
moto's own. Used by scripts/emulator and by the tests' harness (crates/test-support).
"""

import sys

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main


def tag_resource(self, arn, tags):
    for table in self.tables.values():
        if table.table_arn == arn:
            kept = [t for t in table.tags if t["Key"] not in tags]
            table.tags = kept + [{"Key": k, "Value": v} for k, v in tags.items()]


DynamoDBBackend.tag_resource = tag_resource

if __name__ == "__main__":
    sys.exit(main())
