"""The chair's workspace: the review queue, each family copy reviewed side by side with the full
record, disclosure flags resolved, copies approved or returned, reports' sharing decided; and, on
the conferences area, business support's answers to returned copies."""
