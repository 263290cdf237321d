"""Who is acting in a staff workflow: their Access, the capability check, and today.
Views check the capability (403) and load the object in scope (404); the services
check again, so a task or a script cannot skip it."""


# =============================================================================================
# Staff workflows: teachers, career specialists, consortium admins and college registrars.
# Views check the capability (403) and load the object in the user's scope (404); these
# services re-check what a write depends on (the teacher of the class, the registrar's
# college, the consortium of a fee) so a bad id can never reach another school's records.
# Multi-row writes run in one transaction: all of them, or none.
# =============================================================================================


def actor_access(actor):
    from accounts.permissions import access_for

    return access_for(actor)


def actor_require(actor, capability) -> None:
    actor_access(actor).require(capability)
