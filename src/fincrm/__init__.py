"""fincrm: a CRM for lenders."""
