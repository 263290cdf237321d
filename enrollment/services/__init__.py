"""Every write to students, enrollments and fees, and the business rules behind them:
one module per concern (README: Architecture). Import from the module that owns a
function; this package re-exports nothing."""
