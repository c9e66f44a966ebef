"""What the provisioning API accepts and returns, one module per concept."""
