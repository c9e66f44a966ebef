"""SQL adapters of provisioning: one repository per concept and the unit of work holding them."""
