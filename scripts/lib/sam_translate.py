"""Translate a SAM template to plain CloudFormation offline, with the SAM translator itself.

    python sam_translate.py TEMPLATE OUTPUT.json
    python sam_translate.py --packaged [--regional-bucket PREFIX] PACKAGED OUTPUT.json

`sam validate --lint` and cfn-lint check AWS::Serverless::* resources against SAM's schema only;
the translated template is plain CloudFormation, so cfn-lint can then check what SAM generates
(AWS::Lambda::Function, EventInvokeConfig, AWS::Scheduler::Schedule, ...) against the real resource
specs.

The first form is the offline check: local CodeUri paths are replaced by a dummy S3 location (as
`sam validate` does).

`--packaged` is the CloudFormation StackSets recipe (README, "Many accounts and regions"):
StackSets with service-managed permissions refuse templates with macros, and the SAM transform
is one, so the template `sam package` wrote (CodeUri on S3) is translated here and deployed as
plain CloudFormation. Every CodeUri must then be on S3, and the result must hold no transform and
no AWS::Serverless::* resource. Lambda reads code only from a bucket in the function's own
region: `--regional-bucket PREFIX` points every function at the bucket `PREFIX-<region>` (same
keys), for a stack set deployed in several regions.

Offline by construction: the managed-policy loader, the only part of the translator that calls
AWS (IAM ListPolicies), refuses to run: the template names no managed policy.
"""

import argparse
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--packaged", action="store_true",
                        help="keep the S3 CodeUri of a `sam package` output (StackSets)")
    parser.add_argument("--regional-bucket", metavar="PREFIX",
                        help="with --packaged: code from the bucket PREFIX-<region>")
    parser.add_argument("template")
    parser.add_argument("output")
    args = parser.parse_args()
    if args.regional_bucket and not args.packaged:
        parser.error("--regional-bucket needs --packaged")

    with open(args.template) as f:
        template = yaml_parse(f.read())
    for name, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        props = resource.setdefault("Properties", {})
        if not args.packaged:
            props["CodeUri"] = "s3://offline-check/bootstrap.zip"
        elif not str(props.get("CodeUri", "")).startswith("s3://"):
            sys.exit(f"sam_translate: {name}: CodeUri {props.get('CodeUri')!r} is not on S3; "
                     "run `sam package` first")

    translated = transform(template, {}, NoManagedPolicies())

    if args.packaged:
        if "Transform" in translated:
            sys.exit(f"sam_translate: a transform is left: {translated['Transform']}")
        left = [n for n, r in translated["Resources"].items()
                if r.get("Type", "").startswith("AWS::Serverless::")]
        if left:
            sys.exit(f"sam_translate: untranslated resources: {left}")
        if args.regional_bucket:
            for resource in translated["Resources"].values():
                if resource.get("Type") == "AWS::Lambda::Function":
                    code = resource["Properties"]["Code"]
                    code["S3Bucket"] = {"Fn::Sub": args.regional_bucket + "-${AWS::Region}"}

    with open(args.output, "w") as f:
        json.dump(translated, f, indent=1)


if __name__ == "__main__":
    main()
