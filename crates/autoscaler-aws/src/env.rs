//! The environment variables the functions read (set by `template.yaml`).

/// Every environment variable the Lambda functions read, with its default (`None`: optional).
pub const ENV_VARS: &[(&str, &str)] = &[
    ("AUTOSCALER_TAG_KEY", "ddb-autoscaler"),
    ("AUTOSCALER_DRY_RUN", "false"),
    ("AUTOSCALER_TARGET_PERCENT", "70"),
    ("AUTOSCALER_SCALE_UP_TRIGGER_PERCENT", "80"),
    ("AUTOSCALER_MIN_CAPACITY", "1"),
    ("AUTOSCALER_MAX_CAPACITY", "40000"),
    ("AUTOSCALER_COOLDOWN_MINUTES", "30"),
    ("AUTOSCALER_UP_WINDOW_MINUTES", "5"),
    ("AUTOSCALER_DOWN_WINDOW_MINUTES", "30"),
    ("AUTOSCALER_MIN_DECREASE_PERCENT", "20"),
    ("AUTOSCALER_CONCURRENCY", "8"),
];
