"""Every write to articulation agreements, and the business rules behind them: one module
per concern (README: Architecture). Import from the module that owns a function; this
package re-exports nothing.

- access: who may act on an agreement (the capability, in the scope it needs).
- status: the transitions table and `articulation_change_status`, the one function that
  writes `Articulation.status`: it locks the row, checks the transitions table and the
  actor's role and scope, and writes a history row. Replacing a version, expiring at
  roll-over and retiring all go through it. Also who is emailed about a status change.
- drafts: creating and editing drafts, revising an agreement, discarding a draft. Only
  drafts are edited in place. An approved or active agreement is revised by
  `articulation_revise`, which copies it into a new draft version; the old version stays
  readable and keeps its classes (sections) and enrollments.
- teachers: the teachers qualified to teach under an agreement, and inviting one.
- college_courses: a college's course catalog.
- rollover: the annual roll-over (`rollover_apply`) and its queued runs.
- bulk_import: agreements imported from a CSV or XLSX file (`articulation_import`).

The annual roll-over and the bulk import are idempotent: running them again changes
nothing more.
"""
