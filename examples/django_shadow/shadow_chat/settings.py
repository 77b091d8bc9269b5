"""Settings for the example. In a real project these live in your settings module; the
role the app runs under gets the template's LlmReaderPolicy and nothing on the source table."""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "shadow_chat.urls"
INSTALLED_APPS = ["shadow_chat"]
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True

# The shadow table (the template's ShadowTableName output) and how to reach it.
SHADOW_TABLE_NAME = os.environ.get("SHADOW_TABLE_NAME", "app-main-shadow")
SHADOW_BOTO3 = {"region_name": os.environ.get("AWS_REGION", "us-east-1")}
# The same policy file the function runs with: the same rules for text that reaches a
# prompt from elsewhere, and the same tokens for lookups (key in $SHADOW_TOKEN_KEY).
SHADOW_POLICY_FILE = os.environ.get("SHADOW_POLICY_FILE")
# A callable `prompt -> answer`: your LLM client.
LLM_CLIENT = os.environ.get("LLM_CLIENT", "shadow_chat.llm.echo")
