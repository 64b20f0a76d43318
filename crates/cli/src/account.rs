//! The connection to an account that the operator commands (`status`, `plan`, `backtest`,
//! `advise`, `boost`) share: their AWS options, the standard AWS configuration plus the
//! deployment's `AUTOSCALER_*` settings, a check for a region and credentials before the first
//! call, `DescribeTable` and the tags of one table, and the messages for what the user can fix:
//! no credentials, refused credentials, a missing permission, an unknown table, a table that
//! has not opted in.

use crate::common::Error;

/// AWS options of the commands that talk to an account (`status`, `plan`, `backtest`). Anything
/// not given comes from the standard AWS configuration (`AWS_PROFILE`, `AWS_REGION`,
/// `~/.aws/config`, `AWS_ENDPOINT_URL`...), exactly as the AWS CLI reads it.
#[derive(Clone, Debug, clap::Args)]
pub struct AwsArgs {
    /// Named profile of the AWS configuration (default: AWS_PROFILE, else `default`).
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// AWS region (default: AWS_REGION, else the profile's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The opt-in tag key of the deployment (default: AUTOSCALER_TAG_KEY, else `ddb-autoscaler`).
    #[arg(long, value_name = "KEY")]
    pub tag_key: Option<String>,
}

/// A connection to one account and region, with the run configuration of the deployment.
pub struct Aws {
    /// The three clients the pipeline uses.
    pub clients: autoscaler_aws::Clients,
    /// Defaults from the same `AUTOSCALER_*` environment variables the functions read, the
    /// tag key possibly from `--tag-key`.
    pub config: autoscaler_aws::RunConfig,
    /// The region in use.
    pub region: String,
}

/// What to do when no credentials are found: the usual ways, and the emulator's.
const CREDENTIALS_HELP: &str = "configure them as for the AWS CLI: `aws configure`, or \
`aws sso login --profile NAME` and then --profile NAME (or AWS_PROFILE=NAME), or set \
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (against the local emulator any values do, e.g. \
AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test)";

impl AwsArgs {
    /// Loads the AWS configuration and the run configuration, and checks that there are a
    /// region and credentials, so that neither fails later with a less helpful error.
    pub async fn connect(&self) -> Result<Aws, Error> {
        let config = autoscaler_aws::RunConfig::from_lookup(|name| {
            if name == "AUTOSCALER_TAG_KEY"
                && let Some(key) = &self.tag_key
            {
                return Some(key.clone());
            }
            std::env::var(name).ok()
        })?;
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &self.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let sdk = loader.load().await;
        let Some(region) = sdk.region().map(ToString::to_string) else {
            return Err(
                "no AWS region configured: pass --region, set AWS_REGION, or set \
                        `region` in your AWS profile"
                    .into(),
            );
        };
        if let Err(e) = autoscaler_aws::aws::check_credentials(&sdk).await {
            let why = autoscaler_aws::error::chain(&e);
            return Err(format!("{why}; {CREDENTIALS_HELP}").into());
        }
        Ok(Aws {
            clients: autoscaler_aws::Clients::new(&sdk),
            config,
            region,
        })
    }
}

/// An AWS error as a message for the user: its whole cause chain, plus a hint when the cause is
/// the credentials (expired, unknown or not allowed).
pub fn aws_error(err: &(dyn std::error::Error + 'static)) -> Error {
    let text = autoscaler_aws::error::chain(err);
    let hint = if [
        "UnrecognizedClient",
        "InvalidClientTokenId",
        "ExpiredToken",
        "security token",
        "InvalidSignature",
    ]
    .iter()
    .any(|c| text.contains(c))
    {
        format!(" (the credentials were refused; {CREDENTIALS_HELP})")
    } else if text.contains("AccessDenied") {
        " (the credentials lack a permission: status, plan, backtest and advise need \
         tag:GetResources, dynamodb:ListTables, dynamodb:ListTagsOfResource, \
         dynamodb:DescribeTable, dynamodb:DescribeLimits and cloudwatch:GetMetricData; boost \
         also dynamodb:TagResource and dynamodb:UntagResource)"
            .to_owned()
    } else {
        String::new()
    };
    format!("{text}{hint}").into()
}

/// The error for a table `DescribeTable` does not know.
pub fn unknown_table(name: &str, region: &str) -> Error {
    format!("table {name:?} not found in region {region} (check the name, --region and --profile)")
        .into()
}

/// The error for a table that exists but is not managed: names the table and the tag.
pub fn not_opted_in(name: &str, tag_key: &str, value: Option<&str>) -> Error {
    match value {
        None => format!(
            "table {name:?} has not opted in: it has no tag {tag_key:?} (tag it {tag_key}=on, or \
             {tag_key}=dry-run to decide without changing anything; --tag-key or \
             AUTOSCALER_TAG_KEY if your deployment uses another key)"
        ),
        Some(v) => format!(
            "table {name:?} has not opted in: its tag {tag_key:?} is {v:?}, and only \"on\" or \
             \"dry-run\" opt a table in"
        ),
    }
    .into()
}

/// `DescribeTable` of `name` (an error naming it when it does not exist), and the table with
/// all its tags when it carries the opt-in tag key (whatever the value), as the pipeline's
/// discovery finds it; `None` when it does not carry the key.
pub async fn describe_and_tags(
    aws: &Aws,
    name: &str,
) -> Result<
    (
        autoscaler_aws::table::TableDescription,
        Option<autoscaler_aws::table::TaggedTable>,
    ),
    Error,
> {
    let description = match autoscaler_aws::aws::describe(&aws.clients, name).await {
        Ok(d) => d,
        Err(e) if e.kind() == autoscaler_aws::ErrorKind::NotFound => {
            return Err(unknown_table(name, &aws.region));
        }
        Err(e) => return Err(aws_error(&e)),
    };
    let tagged = autoscaler_aws::aws::discover(&aws.clients, &aws.config.tag_key)
        .await
        .map_err(|e| aws_error(&e))?
        .tables
        .into_iter()
        .find(|t| t.name == name);
    Ok((description, tagged))
}
