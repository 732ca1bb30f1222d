-- Contact search (`q` on GET /api/contacts and /api/leads): case-insensitive prefix search on the
-- name, the name's last word (surname), the email and the phone digits.
--
-- Why generated columns and text_pattern_ops ranges rather than LIKE or trigrams: contacts has
-- forced row-level security, and PostgreSQL only uses a caller's condition in an index scan when
-- its functions are leakproof. lower(), LIKE and the trigram operators are not; the pattern
-- comparison operators (~>=~, ~<~) are. So the lowered keys are stored, and a prefix search is
-- the range key ~>=~ q and key ~<~ q || U+10FFFF, which the (organization_id, key) indexes serve.

alter table contacts
  add column search_name text generated always as (lower(coalesce(name, ''))) stored,
  add column search_surname text
    generated always as (lower(coalesce(substring(name from '(\S+)\s*$'), ''))) stored,
  add column search_phone text generated always as (coalesce(substr(phone, 2), '')) stored;

create index contacts_search_name_idx on contacts (organization_id, search_name text_pattern_ops);
create index contacts_search_surname_idx
  on contacts (organization_id, search_surname text_pattern_ops);
create index contacts_search_email_idx on contacts (organization_id, email text_pattern_ops);
create index contacts_search_phone_idx on contacts (organization_id, search_phone text_pattern_ops);
create index contacts_status_idx on contacts (organization_id, status, created_at, id);

-- Task filters: a contact's tasks, and open / done tasks in creation order.
create index tasks_contact_idx on tasks (organization_id, contact_id) where contact_id is not null;
create index tasks_done_idx on tasks (organization_id, done, created_at, id);
