"""`monitoring.alertWebhookUrl`: the config key that takes a secret, and the secret never shows.

Issue 10: the runbooks' `pulumi config set --secret mlops-platform:someApiKey ...` was refused (unknown key):
no key took a secret. The on-call webhook is the secret's home: set with `pulumi config set --path --secret`,
the engine hands the program the decrypted object and marks its key secret (PULUMI_CONFIG_SECRET_KEYS); the
program wraps the URL with `pulumi.Output.secret`, so the state, `pulumi preview`, the offline plan and any
message show `[secret]`. Wired to an SNS `https` subscription on AWS and an action group webhook receiver on
Azure. Pulumi secrets: https://www.pulumi.com/docs/iac/concepts/secrets/ ; `--path` with `--secret` stores the
value encrypted inside the object (https://www.pulumi.com/docs/iac/concepts/config/#structured-configuration).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import yaml

from infra import cli
from infra.config_errors import ConfigError
from infra.plan.engine import plan_stack_config
from infra.stackfile import PROJECT_ROOT, read_stack_config
from infra.targets import load_platform_config

SECRET = "https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue"
KEY = "mlops-platform:monitoring"


def _with_decrypted_webhook(stack: str, url: str = SECRET, *, secret: bool = True):
    """The stack's config as the engine hands it over after `pulumi config set --path --secret ...`."""
    config = read_stack_config(stack)
    monitoring = {**json.loads(config.values.get(KEY, "{}")), "alertWebhookUrl": url}
    values = {**config.values, KEY: json.dumps(monitoring, sort_keys=True, separators=(",", ":"))}
    keys = sorted({*config.secret_keys, KEY}) if secret else config.secret_keys
    return replace(config, values=values, secret_keys=keys)


@pytest.mark.parametrize(("stack", "type_", "field"), [
    ("prod", "aws:sns/topicSubscription:TopicSubscription", "endpoint"),
    ("azure-prod", "azure-native:monitor:ActionGroup", "webhookReceivers"),
])
def test_the_webhook_is_planned_and_its_value_never_appears(stack, type_, field, capsys, caplog):
    plan = plan_stack_config(_with_decrypted_webhook(stack))
    text = plan.to_json()
    out = capsys.readouterr()
    assert SECRET not in text and SECRET not in out.out + out.err + caplog.text
    assert "0123456789abcdef" not in text  # not even the integration key alone
    receivers = json.dumps([r["inputs"][field] for r in plan.of_type(type_) if field in r["inputs"]])
    assert '"[secret]"' in receivers, f"{stack}: the webhook is wired as a secret input of {type_}"


def test_the_aws_subscription_posts_over_https_and_waits_for_the_integration_to_confirm():
    """terraform-provider-aws#12838 / #7782: an https subscription that nobody confirms stays "PendingConfirmation"
    silently; on-call integrations confirm on their own, so the provider waits (and a wrong URL fails the update)."""
    plan = plan_stack_config(_with_decrypted_webhook("prod"))
    subscriptions = plan.of_type("aws:sns/topicSubscription:TopicSubscription")
    [sub] = [r for r in subscriptions if r["inputs"]["protocol"] != "email"]
    assert sub["inputs"]["protocol"] == "https" and sub["inputs"]["endpointAutoConfirms"] is True


def test_a_plain_text_webhook_is_refused_without_echoing_it():
    config = _with_decrypted_webhook("prod", secret=False)
    with pytest.raises(ConfigError) as info:
        load_platform_config(config.values, config.source, "prod", config.secret_keys)
    [line] = info.value.lines()
    assert "mlops-platform:monitoring.alertWebhookUrl" in line and "--path --secret" in line
    assert SECRET not in line


def test_a_webhook_that_is_not_https_is_refused_without_echoing_it():
    url = "http://hooks.example.com/T000/B000/XXXXsecretXXXX"
    config = _with_decrypted_webhook("prod", url)
    with pytest.raises(ConfigError) as info:
        load_platform_config(config.values, config.source, "prod", config.secret_keys)
    assert "expected an https:// URL" in str(info.value) and "XXXXsecretXXXX" not in str(info.value)


def test_a_secure_value_in_the_stack_file_plans_offline(tmp_path, capsys):
    """The committed stack file holds ciphertext; the offline plan never decrypts it and still plans."""
    document = yaml.safe_load((PROJECT_ROOT / "Pulumi.prod.yaml").read_text())
    document["config"][KEY]["alertWebhookUrl"] = {"secure": "v1:AAAAexampleciphertext"}
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document))
    assert cli.main(["plan", "prod", "--config-file", str(path), "--format", "json"]) == cli.EXIT_OK
    plan = json.loads(capsys.readouterr().out)
    assert any(r["inputs"].get("protocol") == "https" and r["inputs"]["endpoint"] == "[secret]"
               for r in plan["resources"])
