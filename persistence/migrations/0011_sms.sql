-- The SMS assistant: one conversation per (organization, customer number) with its dialog state,
-- and every message in order with what the assistant understood and did. The org's review window
-- lives in organizations.settings (`sms_review_window_s`, default 0 = reply at once); drafts are
-- sent by a durable timer of kind `sms_send_draft` (target: the message, payload: the key of the
-- conversation entity).

create table sms_conversations (
  organization_id uuid not null references organizations (id) on delete cascade,
  id              uuid not null default gen_random_uuid(),
  customer_phone  text not null check (customer_phone ~ '^\+[1-9][0-9]{6,14}$'),
  contact_id      uuid,
  opted_out       boolean not null default false,
  opted_out_at    timestamptz,
  -- {slots: {...entities collected so far}, last_quote_id, pending_hold_event_id}
  state           jsonb not null
                  default '{"slots": {}, "last_quote_id": null, "pending_hold_event_id": null}'::jsonb
                  check (jsonb_typeof(state) = 'object'),
  last_message_at timestamptz,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  version         bigint not null default 1,
  primary key (organization_id, id),
  unique (organization_id, customer_phone),
  -- A deleted contact leaves the conversation (and its history) in place.
  foreign key (organization_id, contact_id) references contacts (organization_id, id)
    on delete set null (contact_id)
);
create index sms_conversations_recent_idx
  on sms_conversations (organization_id, last_message_at desc, id);
create trigger sms_conversations_touch before update on sms_conversations
  for each row execute function touch_row();
alter table sms_conversations enable row level security;
alter table sms_conversations force row level security;
create policy org_isolation on sms_conversations
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

create table sms_messages (
  organization_id uuid not null references organizations (id) on delete cascade,
  id              uuid not null default gen_random_uuid(),
  -- Order of arrival: the conversation entity writes its messages one at a time.
  seq             bigint generated always as identity,
  conversation_id uuid not null,
  direction       text not null check (direction in ('in', 'out')),
  body            text not null check (length(body) <= 1600),
  -- Twilio's MessageSid: a retried webhook carries the same one, so it is recorded once.
  twilio_sid      text check (twilio_sid is null or twilio_sid ~ '^[A-Za-z0-9]{2,64}$'),
  status          text not null
                  check (status in ('received', 'draft', 'queued', 'sending', 'sent', 'delivered',
                                    'undelivered', 'failed', 'cancelled')),
  intent          text,
  confidence      double precision,
  entities        jsonb,
  tool_calls      jsonb not null default '[]'::jsonb check (jsonb_typeof(tool_calls) = 'array'),
  reply_to        uuid,          -- an outbound reply: the inbound message it answers
  send_after      timestamptz,   -- a draft: when it goes out unless the DJ acts first
  error_code      text,
  sent_at         timestamptz,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  version         bigint not null default 1,
  primary key (organization_id, id),
  foreign key (organization_id, conversation_id)
    references sms_conversations (organization_id, id) on delete cascade,
  check ((direction = 'in') = (status = 'received'))
);
create unique index sms_messages_twilio_sid_key on sms_messages (organization_id, twilio_sid)
  where twilio_sid is not null;
create index sms_messages_conversation_idx on sms_messages (organization_id, conversation_id, seq);
create trigger sms_messages_touch before update on sms_messages
  for each row execute function touch_row();
alter table sms_messages enable row level security;
alter table sms_messages force row level security;
create policy org_isolation on sms_messages
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());
