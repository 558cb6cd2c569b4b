"""The duty officer service: garrison-wide patrol of overdue Orders and budgets."""
