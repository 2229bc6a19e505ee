"""The SDK's offline signature vectors are what the platform's own signing code produces."""

import json
from pathlib import Path

from apps.notifications.messages import webhook_signature

VECTORS = Path(__file__).resolve().parents[2] / "sdk" / "python" / "tests" / "signature_vectors.json"


def test_the_platform_still_signs_as_the_sdk_vectors_say():
    vectors = json.loads(VECTORS.read_text())
    assert vectors
    for vector in vectors:
        header = webhook_signature(secret=vector["secret"], timestamp=vector["timestamp"], body=vector["body"].encode())
        assert header == vector["header"]
