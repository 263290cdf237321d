"""Reads for reports, scoped to the user, one module per concern: home (each role's
numbers on the home page), dashboard (the dashboard's tables, small cells suppressed),
jobs (report jobs) and access (the student-record access log under review)."""
