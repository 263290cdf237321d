#!/bin/sh
# Run once by the postgres image when it creates the database (docker-compose.yml, db):
# streaming replication connections from the compose network, with the password, for the
# optional replica service. A database created before this file existed needs the same
# line added to its pg_hba.conf by hand (then SELECT pg_reload_conf()).
set -e
echo "host replication all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
