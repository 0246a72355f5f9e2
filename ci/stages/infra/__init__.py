"""The infrastructure stages: the SAM/CloudFormation templates of the app, validated (`validate-infra`)."""
