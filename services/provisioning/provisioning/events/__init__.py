"""Domain events → the contract payloads other services read, one module per concept."""
