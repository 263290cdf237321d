"""Every read of students, enrollments and fees, always scoped to the user: one module
per audience (README: Architecture). Import from the module that owns a function; this
package re-exports nothing."""
