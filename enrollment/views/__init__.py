"""The enrollment pages, one module per role: students (sign-up, their own pages),
teachers, the help desk, consortium admins and registrars; `common` holds what they
share. Thin views: parse, check the capability (403), load in scope (404), call a
service, render or redirect with a message. This package re-exports nothing."""
