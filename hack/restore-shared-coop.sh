#!/bin/sh
# Restores one shared-tier co-op's logical backup (a dump its CronJob wrote to
# <bucket>/<region>/<co-op>/logical/) into the hub's shared Cluster, without touching any
# other co-op's database:
#   1. creates a fresh database, owned by the co-op's role, and restores the dump into it;
#   2. closes the co-op's current database to new connections, ends the open ones, renames
#      it to <database>_old, and gives the restored database the co-op's database name;
#   3. revokes CONNECT on it from PUBLIC, as the logical backups do.
# The old database stays, for comparison; drop it once satisfied.
#
# Usage: hack/restore-shared-coop.sh <co-op> <dump file>
# Runs psql and pg_restore as postgres in the shared Cluster's primary pod (kubectl exec);
# OPERATOR_NAMESPACE (cooperator-system) and SHARED_CLUSTER (cooperator-shared) name it.
# With RUN set (even empty), runs them with that prefix instead, with the libpq environment
# (PGHOST, PGUSER...) of a superuser: the test does so against its own PostgreSQL server.
set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 <co-op> <dump file>" >&2
	exit 2
fi
coop=$1
dump=$2
if ! printf '%s' "$coop" | grep -Eq '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'; then
	echo "$0: co-op name $coop: must be a DNS label" >&2
	exit 2
fi
if [ ! -s "$dump" ]; then
	echo "$0: $dump: no such dump, or empty" >&2
	exit 2
fi
db=coop_$(printf '%s' "$coop" | tr - _)
restore=restore_$(date -u +%Y%m%d%H%M%S)

if [ -z "${RUN+x}" ]; then
	ns=${OPERATOR_NAMESPACE:-cooperator-system}
	cluster=${SHARED_CLUSTER:-cooperator-shared}
	primary=$(kubectl -n "$ns" get clusters.postgresql.cnpg.io "$cluster" -o jsonpath='{.status.currentPrimary}')
	RUN="kubectl -n $ns exec -i $primary -c postgres --"
fi

sql() {
	$RUN psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "$1"
}

if [ -n "$($RUN psql -X -tA -v ON_ERROR_STOP=1 -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '${db}_old'")" ]; then
	echo "$0: database ${db}_old exists, from an earlier restore: drop it first" >&2
	exit 1
fi
echo "Restoring $dump into a new database $restore, owned by $db"
sql "CREATE DATABASE $restore OWNER $db"
# The objects are created as the co-op's role, so it owns them as it owned the originals.
$RUN pg_restore --exit-on-error --no-owner --no-privileges --role="$db" --dbname="$restore" <"$dump"

echo "Swapping $db for the restored database; the current one becomes ${db}_old"
sql "ALTER DATABASE $db ALLOW_CONNECTIONS false"
sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '$db'"
sql "DO \$\$ BEGIN FOR i IN 1..100 LOOP EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = '$db'); PERFORM pg_sleep(0.1); END LOOP; END \$\$"
sql "ALTER DATABASE $db RENAME TO ${db}_old"
sql "ALTER DATABASE $restore RENAME TO $db"
sql "REVOKE CONNECT ON DATABASE $db FROM PUBLIC"
echo "Restored $db. Its previous contents are in ${db}_old (closed to connections); drop it with: DROP DATABASE ${db}_old"
