"""Every write to students, enrollments and fees, and the business rules behind them:
one module per concern (README: Architecture). Import from the module that owns a
function; this package re-exports nothing.

Staff workflows (teachers, career specialists, consortium admins, registrars): views
check the capability (403) and load the object in the user's scope (404); the services
re-check what a write depends on (the teacher of the class, the registrar's college, the
consortium of a fee), so a bad id can never reach another school's records. Multi-row
writes run in one transaction: all of them, or none."""
