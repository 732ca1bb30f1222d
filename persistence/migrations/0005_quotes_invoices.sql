-- Billing: quotes (stored with the breakdown computed from the org's pricing rules) and invoices
-- with per-organization gapless numbers. Tenant pattern as in 0003: keyed (organization_id, id),
-- RLS enabled and forced, composite foreign keys so a row can only point into its own org.

create table quotes (
  organization_id uuid not null references organizations (id) on delete cascade,
  id              uuid not null default gen_random_uuid(),
  contact_id      uuid,
  event_type      text not null
                  check (event_type in ('wedding', 'corporate', 'birthday', 'school_dance',
                                        'quinceanera', 'mitzvah', 'private_party', 'club', 'other')),
  event_date      date,
  hours           numeric(4, 2) not null check (hours > 0 and hours <= 24),
  billed_hours    numeric(4, 2) not null check (billed_hours > 0 and billed_hours <= 24),
  guests          integer check (guests is null or guests between 0 and 100000),
  add_ons         text[] not null default '{}',
  amount_cents    bigint not null check (amount_cents >= 0),
  currency        text not null check (currency ~ '^[a-z]{3}$'),
  breakdown       jsonb not null check (jsonb_typeof(breakdown) = 'array'),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  version         bigint not null default 1,
  primary key (organization_id, id),
  foreign key (organization_id, contact_id) references contacts (organization_id, id)
);
create index quotes_created_idx on quotes (organization_id, created_at, id);
create index quotes_contact_idx on quotes (organization_id, contact_id, created_at, id)
  where contact_id is not null;
create trigger quotes_touch before update on quotes for each row execute function touch_row();
alter table quotes enable row level security;
alter table quotes force row level security;
create policy org_isolation on quotes
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

-- One row per organization holding the last invoice number handed out. Creating an invoice
-- increments it in the same transaction as the insert: the row lock serializes concurrent
-- creations and a rolled-back creation gives its number back, so numbers stay gapless.
create table invoice_counters (
  organization_id uuid not null primary key references organizations (id) on delete cascade,
  last_seq        integer not null check (last_seq >= 0)
);
alter table invoice_counters enable row level security;
alter table invoice_counters force row level security;
create policy org_isolation on invoice_counters
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

create table invoices (
  organization_id uuid not null references organizations (id) on delete cascade,
  id              uuid not null default gen_random_uuid(),
  seq             integer not null check (seq > 0),
  number          text not null,
  contact_id      uuid,
  event_id        uuid,
  status          text not null default 'draft' check (status in ('draft', 'sent', 'paid', 'void')),
  currency        text not null check (currency ~ '^[a-z]{3}$'),
  line_items      jsonb not null check (jsonb_typeof(line_items) = 'array'),
  total_cents     bigint not null check (total_cents >= 0),
  deposit_cents   bigint not null default 0 check (deposit_cents >= 0),
  paid_cents      bigint not null default 0 check (paid_cents >= 0),
  due_date        date,
  notes           text not null default '' check (length(notes) <= 20000),
  sent_at         timestamptz,
  paid_at         timestamptz,
  voided_at       timestamptz,
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  version         bigint not null default 1,
  primary key (organization_id, id),
  unique (organization_id, seq),
  unique (organization_id, number),
  foreign key (organization_id, contact_id) references contacts (organization_id, id),
  foreign key (organization_id, event_id) references events (organization_id, id),
  check (deposit_cents <= total_cents),
  check (paid_cents <= total_cents)
);
create index invoices_created_idx on invoices (organization_id, created_at, id);
create index invoices_status_idx on invoices (organization_id, status, due_date);
create trigger invoices_touch before update on invoices for each row execute function touch_row();
alter table invoices enable row level security;
alter table invoices force row level security;
create policy org_isolation on invoices
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());
