"""A toy upstream MCP server over stdio with a `refund` tool; each run appends a line to $REFUNDS_FILE."""

import os

from mcp.server.mcpserver import MCPServer

server = MCPServer("toy-payments")


@server.tool()
def refund(order_id: str, amount: str) -> str:
    """Refund an order."""
    with open(os.environ["REFUNDS_FILE"], "a") as runs:
        runs.write(f"{order_id} {amount}\n")
    return f"refunded {amount} on {order_id}"


if __name__ == "__main__":
    server.run("stdio")
