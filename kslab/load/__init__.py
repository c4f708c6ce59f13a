"""Load generation: an asyncio/uvloop HTTP/1.1 client with HDR-histogram latencies (closed, open loop, steps)."""
