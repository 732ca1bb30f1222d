#include "persistence/cluster_repo.hpp"

#include "persistence/repo_util.hpp"

namespace djdash::persistence {

namespace {

using json = nlohmann::json;

// Rows whose heartbeat stopped this long ago are nobody's business any more.
constexpr const char* forget_after = "10 minutes";

int port_arg(const json& args, const char* key, int min) {
  auto port = arg_int(args, key, -1);
  if (port < min || port > 65535)
    throw op_error(app_errc::bad_request, std::string{key} + ": must be a TCP port");
  return static_cast<int>(port);
}

json heartbeat(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto node_id = arg_string(args, "node_id");
  auto incarnation = arg_string(args, "incarnation");
  auto host = arg_string(args, "host");
  auto cluster_port = port_arg(args, "cluster_port", 1);
  auto http_port = port_arg(args, "http_port", 0);
  auto lease_ms = arg_int(args, "lease_ms", 3000);
  if (lease_ms < 100 || lease_ms > 600000)
    throw op_error(app_errc::bad_request, "lease_ms: must be 100..600000");
  tx.exec_params0(
    "insert into cluster_nodes (node_id, incarnation, host, cluster_port, http_port)"
    " values ($1, $2, $3, $4, $5)"
    " on conflict (node_id) do update set"
    "   incarnation = excluded.incarnation, host = excluded.host,"
    "   cluster_port = excluded.cluster_port, http_port = excluded.http_port,"
    "   started_at = case when cluster_nodes.incarnation = excluded.incarnation"
    "                     then cluster_nodes.started_at else now() end,"
    "   heartbeat_at = now()",
    node_id, incarnation, host, cluster_port, http_port);
  tx.exec0(std::string{"delete from cluster_nodes where heartbeat_at < now() - interval '"}
           + forget_after + "'");
  auto rows = tx.exec_params(
    "select node_id, incarnation, host, cluster_port, http_port,"
    " (extract(epoch from (now() - heartbeat_at)) * 1000)::bigint"
    " from cluster_nodes"
    " where node_id <> $1 and heartbeat_at > now() - make_interval(secs => $2::double precision / 1000)"
    " order by node_id",
    node_id, lease_ms);
  auto members = json::array();
  for (const auto& r : rows)
    members.push_back({{"node_id", r[0].as<std::string>()},
                       {"incarnation", r[1].as<std::string>()},
                       {"host", r[2].as<std::string>()},
                       {"cluster_port", r[3].as<int>()},
                       {"http_port", r[4].as<int>()},
                       {"heartbeat_age_ms", r[5].as<int64_t>()}});
  return {{"members", members}};
}

json leave(pqxx::transaction_base& tx, const db_scope&, const json& args) {
  auto gone = tx.exec_params("delete from cluster_nodes where node_id = $1 and incarnation = $2",
                             arg_string(args, "node_id"), arg_string(args, "incarnation"));
  return {{"left", gone.affected_rows() > 0}};
}

} // namespace

void add_cluster_operations(std::map<std::string, operation>& ops) {
  ops.emplace("cluster.heartbeat", heartbeat);
  ops.emplace("cluster.leave", leave);
}

} // namespace djdash::persistence
