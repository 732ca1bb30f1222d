-- Cluster membership (DESIGN.md, "Cluster"): one row per running node, heartbeated; the members
-- are the rows whose heartbeat is inside the lease. Not a tenant table: no organization data.
-- Times are the database's own clock, so nodes with skewed clocks still agree on the lease.

create table cluster_nodes (
  node_id       text primary key check (node_id ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$'),
  incarnation   text not null check (length(incarnation) between 8 and 64),
  host          text not null check (length(host) between 1 and 253),
  cluster_port  integer not null check (cluster_port between 1 and 65535),
  http_port     integer not null check (http_port between 0 and 65535),
  started_at    timestamptz not null default now(),
  heartbeat_at  timestamptz not null default now()
);
create index cluster_nodes_heartbeat on cluster_nodes (heartbeat_at);
