"""A client process for the crash-and-resume test: `python gated_refund.py URL KEY RUNS_FILE`.

It calls a gated refund once and prints the result as JSON; every run of the refund's body appends a
line to RUNS_FILE, so the test can count executions across processes.
"""

import json
import sys

from hitlplatform_client import HitlClient, require_approval


def main(url: str, key: str, runs_file: str) -> None:
    hitl = HitlClient(url, key)

    @require_approval(
        hitl,
        action_type="payments.refund",
        summary="Refund {amount} on {order_id}",
        confidence=0.9,
        irreversible=True,
        key=lambda args: f"refund:{args['order_id']}",
        deadline=120,
    )
    def refund(order_id: str, amount: str) -> dict:
        with open(runs_file, "a") as runs:
            runs.write(f"{order_id} {amount}\n")
        return {"refund_id": f"re_{order_id}", "amount": amount}

    print(json.dumps(refund("A-7", "12.50")), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
