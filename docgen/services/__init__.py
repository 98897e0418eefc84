"""Services: one module per use case (import, pack, review and approve, schedule, dispatch, deliver, compliance)."""
