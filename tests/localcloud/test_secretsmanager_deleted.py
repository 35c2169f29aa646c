"""Secrets Manager: reading a secret scheduled for deletion fails the way AWS's does."""

import pytest
from botocore.exceptions import ClientError


def test_get_secret_value_of_a_deleted_secret_says_marked_for_deletion(aws, unique):
    """patch_secretsmanager_marked_for_deletion_message: what the lookup's on_deleted option matches."""
    secrets = aws("secretsmanager")
    secrets.create_secret(Name=unique + "/rds/master", SecretString='{"password": "x"}')
    secrets.delete_secret(SecretId=unique + "/rds/master", RecoveryWindowInDays=7)

    with pytest.raises(ClientError) as raised:
        secrets.get_secret_value(SecretId=unique + "/rds/master")
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidRequestException"
    assert "marked for deletion" in error["Message"]

    secrets.restore_secret(SecretId=unique + "/rds/master")
    assert secrets.get_secret_value(SecretId=unique + "/rds/master")["SecretString"] == '{"password": "x"}'
