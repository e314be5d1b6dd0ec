"""The Rasa process's patches (bot/rasa_server.py), in the Rasa venv (it has no pytest: a subprocess).

Action-server answers are still validated as Rasa validates them (a good answer passes, a bad one
raises Rasa's own error), but the response schema is checked against its meta-schema once per
process, not on every answer (that check was a third of Rasa's CPU per chat message).
"""

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"

SCRIPT = r"""
import json
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig
from bot.rasa_server import patch_action_result_validation

patch_action_result_validation()
schema_checks = []
cls = validator_for(RemoteAction.action_response_format_spec())
original_check = cls.check_schema
cls.check_schema = classmethod(lambda c, s, **kw: (schema_checks.append(1), original_check(s, **kw)))
action = RemoteAction("action_open_ticket", EndpointConfig("http://127.0.0.1:1"))
good = {"events": [{"event": "slot", "name": "ticket_id", "value": "T1"}],
        "responses": [{"text": "已为您登记工单"}]}
results = [action._validate_action_result(good) for _ in range(3)]
try:
    action._validate_action_result({"events": "not a list"})
    bad = None
except ValidationError as exc:
    bad = exc.message
print(json.dumps({"good": results, "bad": bad, "schema_checks": len(schema_checks)}))
"""


def test_action_answers_are_validated_without_rechecking_the_schema() -> None:
    out = subprocess.run(
        [str(RASA_PY), "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, check=True, timeout=300
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["good"] == [True, True, True]
    assert result["bad"] is not None and "Failed to validate Action server response" in result["bad"]
    # Rasa's own error path (for the bad answer) may check the schema; good answers never do.
    assert result["schema_checks"] <= 1
