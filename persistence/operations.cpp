#include "persistence/operations.hpp"

#include "persistence/assistant_repo.hpp"
#include "persistence/auth_repo.hpp"
#include "persistence/cluster_repo.hpp"
#include "persistence/contact_repo.hpp"
#include "persistence/contract_repo.hpp"
#include "persistence/crowd_request_repo.hpp"
#include "persistence/event_repo.hpp"
#include "persistence/invoice_repo.hpp"
#include "persistence/member_repo.hpp"
#include "persistence/org_repo.hpp"
#include "persistence/payment_repo.hpp"
#include "persistence/quote_repo.hpp"
#include "persistence/realtime_repo.hpp"
#include "persistence/reminder_repo.hpp"
#include "persistence/sms_repo.hpp"
#include "persistence/stripe_webhook_repo.hpp"
#include "persistence/task_repo.hpp"

namespace djdash::persistence {

namespace {

std::map<std::string, operation>& all_operations() {
  static std::map<std::string, operation> ops = [] {
    std::map<std::string, operation> result;
    add_org_operations(result);
    add_auth_operations(result);
    add_member_operations(result);
    add_contact_operations(result);
    add_task_operations(result);
    add_contract_operations(result);
    add_event_operations(result);
    add_reminder_operations(result);
    add_quote_operations(result);
    add_invoice_operations(result);
    add_realtime_operations(result);
    add_crowd_request_operations(result);
    add_assistant_operations(result);
    add_sms_operations(result);
    add_payment_operations(result);
    add_stripe_webhook_operations(result);
    add_cluster_operations(result);
    return result;
  }();
  return ops;
}

} // namespace

const operation* find_operation(const std::string& name) {
  auto& ops = all_operations();
  auto i = ops.find(name);
  return i == ops.end() ? nullptr : &i->second;
}

bool register_operation(const std::string& name, operation fn) {
  return all_operations().emplace(name, std::move(fn)).second;
}

std::vector<std::string> operation_names() {
  std::vector<std::string> names;
  for (auto& [name, fn] : all_operations())
    names.push_back(name);
  return names;
}

} // namespace djdash::persistence
