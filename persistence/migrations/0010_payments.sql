-- Payments: Stripe Connect Express accounts, the Checkout Sessions we create, the payments they
-- turn into, and the webhook events we have applied (deduplicated by event id).
--
-- Webhooks arrive without a tenant. They find their organization only through the narrow
-- SECURITY DEFINER doors below (by the ids we stored when we created the session or account),
-- then set app.org_id and do the work under the ordinary tenant policies.

-- The organization's connected account and what Stripe last told us about it (account.updated).
create table stripe_accounts (
  organization_id   uuid not null primary key references organizations (id) on delete cascade,
  stripe_account_id text not null unique check (stripe_account_id ~ '^acct_[A-Za-z0-9]+$'),
  charges_enabled   boolean not null default false,
  payouts_enabled   boolean not null default false,
  details_submitted boolean not null default false,
  stripe_state_at   bigint not null default 0,  -- `created` of the event that set the flags
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  version           bigint not null default 1
);
create trigger stripe_accounts_touch before update on stripe_accounts
  for each row execute function touch_row();
alter table stripe_accounts enable row level security;
alter table stripe_accounts force row level security;
create policy org_isolation on stripe_accounts
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

-- Every Checkout Session we created: what it pays for (a crowd request or an invoice), so the
-- webhook maps back to the organization and the row it settles.
create table checkout_sessions (
  organization_id    uuid not null references organizations (id) on delete cascade,
  id                 uuid not null default gen_random_uuid(),
  kind               text not null check (kind in ('crowd_request', 'invoice')),
  ref_id             uuid not null,
  stripe_checkout_session_id text not null unique,
  stripe_payment_intent_id   text,
  stripe_account_id  text not null,
  amount_cents       bigint not null check (amount_cents > 0),
  platform_fee_cents bigint not null check (platform_fee_cents >= 0
                                             and platform_fee_cents <= amount_cents),
  currency           text not null check (currency ~ '^[a-z]{3}$'),
  manual_capture     boolean not null,
  url                text not null default '',
  created_at         timestamptz not null default now(),
  primary key (organization_id, id)
);
create index checkout_sessions_ref_idx on checkout_sessions (organization_id, kind, ref_id);
create index checkout_sessions_pi_idx on checkout_sessions (stripe_payment_intent_id)
  where stripe_payment_intent_id is not null;
alter table checkout_sessions enable row level security;
alter table checkout_sessions force row level security;
create policy org_isolation on checkout_sessions
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

-- One row per PaymentIntent. status: authorized (charge-on-play hold) -> succeeded | canceled;
-- succeeded -> refunded. Fee and net are in the charge's currency, integer cents.
create table payments (
  organization_id    uuid not null references organizations (id) on delete cascade,
  id                 uuid not null default gen_random_uuid(),
  amount_cents       bigint not null check (amount_cents >= 0),
  platform_fee_cents bigint not null check (platform_fee_cents >= 0
                                             and platform_fee_cents <= amount_cents),
  net_cents          bigint not null,
  currency           text not null check (currency ~ '^[a-z]{3}$'),
  status             text not null
                     check (status in ('authorized', 'succeeded', 'canceled', 'refunded')),
  crowd_request_id   uuid,
  invoice_id         uuid,
  stripe_checkout_session_id text,
  stripe_payment_intent_id   text not null unique,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  version            bigint not null default 1,
  primary key (organization_id, id),
  check (net_cents = amount_cents - platform_fee_cents),
  check (crowd_request_id is null or invoice_id is null),
  foreign key (organization_id, crowd_request_id) references crowd_requests (organization_id, id),
  foreign key (organization_id, invoice_id) references invoices (organization_id, id)
);
create index payments_created_idx on payments (organization_id, created_at, id);
create index payments_authorized_idx on payments (organization_id, created_at)
  where status = 'authorized';
create trigger payments_touch before update on payments for each row execute function touch_row();
alter table payments enable row level security;
alter table payments force row level security;
create policy org_isolation on payments
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

-- Webhook events by Stripe's id: inserting the id in the same transaction as the event's effect
-- makes a redelivery (or a concurrent duplicate, which waits on the unique index) a no-op.
-- Platform-level: no tenant reads or writes it except through the functions below; an
-- organization may read the events that touched it.
create table stripe_events (
  id              text primary key check (length(id) between 1 and 255),
  type            text not null,
  organization_id uuid references organizations (id) on delete set null,
  received_at     timestamptz not null default now(),
  processed       boolean not null default false
);
alter table stripe_events enable row level security;
alter table stripe_events force row level security;
create policy platform_only on stripe_events
  using (app_is_platform_admin() or organization_id = app_org_id())
  with check (app_is_platform_admin());

-- Orders payment states so out-of-order deliveries never move a request backwards.
create function payment_rank(p_status text) returns integer
  language sql immutable
  as $$ select case p_status when 'none' then 0 when 'pending' then 1 when 'authorized' then 2
                             when 'paid' then 3 when 'released' then 3 when 'refunded' then 4
                             else 0 end $$;

-- Records a webhook event id. Returns false when it was already recorded (a duplicate); a
-- concurrent transaction holding the same id makes this wait for its outcome.
create function stripe_record_event(p_id text, p_type text)
  returns boolean
  language plpgsql volatile security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
  inserted integer;
begin
  perform set_config('app.platform_admin', 'on', true);
  insert into stripe_events (id, type) values (p_id, p_type) on conflict (id) do nothing;
  get diagnostics inserted = row_count;
  perform set_config('app.platform_admin', caller_admin, true);
  return inserted = 1;
end $$;

-- Marks a recorded event as applied (processed) or ignored, with the organization it touched.
create function stripe_finish_event(p_id text, p_org uuid, p_processed boolean)
  returns void
  language plpgsql volatile security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
begin
  perform set_config('app.platform_admin', 'on', true);
  update stripe_events set organization_id = p_org, processed = p_processed where id = p_id;
  perform set_config('app.platform_admin', caller_admin, true);
end $$;

-- The organization that created a Checkout Session, or null.
create function stripe_session_org(p_session text)
  returns uuid
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
  found_id uuid;
begin
  perform set_config('app.platform_admin', 'on', true);
  select c.organization_id into found_id from checkout_sessions c
   where c.stripe_checkout_session_id = p_session;
  perform set_config('app.platform_admin', caller_admin, true);
  return found_id;
end $$;

-- The organization a PaymentIntent belongs to (through its payment or session), or null.
create function stripe_payment_intent_org(p_pi text)
  returns uuid
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
  found_id uuid;
begin
  perform set_config('app.platform_admin', 'on', true);
  select p.organization_id into found_id from payments p where p.stripe_payment_intent_id = p_pi;
  if found_id is null then
    select c.organization_id into found_id from checkout_sessions c
     where c.stripe_payment_intent_id = p_pi limit 1;
  end if;
  perform set_config('app.platform_admin', caller_admin, true);
  return found_id;
end $$;

-- The organization owning a connected account, or null.
create function stripe_account_org(p_account text)
  returns uuid
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
  found_id uuid;
begin
  perform set_config('app.platform_admin', 'on', true);
  select a.organization_id into found_id from stripe_accounts a where a.stripe_account_id = p_account;
  perform set_config('app.platform_admin', caller_admin, true);
  return found_id;
end $$;
