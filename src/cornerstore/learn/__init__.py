"""Learning: customer value, behavioural loyalty, churn early warning, moments, delivery windows."""
