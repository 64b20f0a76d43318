"""Translate a SAM template to plain CloudFormation offline, with the SAM translator itself.

    python sam_translate.py TEMPLATE OUTPUT.json

`sam validate --lint` and cfn-lint check AWS::Serverless::* resources against SAM's schema only;
the translated template is plain CloudFormation, so cfn-lint can then check what SAM generates
(AWS::Lambda::Function, EventInvokeConfig, AWS::Events::Rule, ...) against the real resource specs.

Offline by construction: local CodeUri paths are replaced by a dummy S3 location (as
`sam validate` does), and the managed-policy loader, the only part of the translator that calls
AWS (IAM ListPolicies), refuses to run: the template names no managed policy.
"""

import json
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse


class NoManagedPolicies:
    def load(self):
        raise SystemExit(
            "sam_translate: the template names an AWS managed policy; resolving it needs IAM, "
            "which this offline check never calls"
        )


def main(src, out):
    with open(src) as f:
        template = yaml_parse(f.read())
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.setdefault("Properties", {})["CodeUri"] = "s3://offline-check/bootstrap.zip"
    translated = transform(template, {}, NoManagedPolicies())
    with open(out, "w") as f:
        json.dump(translated, f, indent=1)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
