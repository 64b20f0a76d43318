//! Who is calling: the IAM identity API Gateway puts in the request context after checking the
//! SigV4 signature (`requestContext.authorizer.iam` of an HTTP API payload v2 event). Every
//! request is logged with it, and every change carries it (`changed_by`). A request without one
//! (a route deployed without IAM authorisation) is refused.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

/// The caller's IAM identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// `userArn`: the IAM user or assumed-role session (empty if API Gateway gave none).
    pub arn: String,
    /// `accountId`: the caller's account.
    pub account: String,
    /// `callerId` (the unique id of the user or role session), else `userId`.
    pub id: String,
}

impl Caller {
    /// The identity in `req`'s request context, if it has one.
    pub fn of(req: &Request) -> Option<Self> {
        let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() else {
            return None;
        };
        let iam = ctx.authorizer.as_ref()?.iam.as_ref()?;
        let caller = Self {
            arn: iam.user_arn.clone().unwrap_or_default(),
            account: iam.account_id.clone().unwrap_or_default(),
            id: iam
                .caller_id
                .clone()
                .or_else(|| iam.user_id.clone())
                .unwrap_or_default(),
        };
        (!(caller.arn.is_empty() && caller.id.is_empty())).then_some(caller)
    }
}

impl std::fmt::Display for Caller {
    /// `arn (account A, caller C)`, as logged in `changed_by`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (account {}, caller {})",
            self.arn, self.account, self.id
        )
    }
}
