"""Password hashing: Argon2id with OWASP's recommended cost.

Django's default Argon2 cost (100 MiB, 2 passes, 8 lanes) takes about 240 ms of CPU
for every sign-in on a two-core server; when whole classrooms sign in at once to register,
that queues each student for seconds. OWASP's Password Storage Cheat Sheet recommends
Argon2id with 19 MiB of memory, 2 passes and 1 lane: about 25 ms. Same algorithm name, so
a password hashed with another cost is checked as it is and hashed again at this cost the
next time its owner signs in (Django's must_update).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idPasswordHasher(Argon2PasswordHasher):
    memory_cost = 19 * 1024  # KiB
    time_cost = 2
    parallelism = 1
