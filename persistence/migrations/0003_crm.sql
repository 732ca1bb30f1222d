-- The CRM core: contacts (leads), events (the calendar), tasks, and durable timers.
-- Every table follows the tenant pattern: keyed (organization_id, id), RLS enabled and forced.

create table contacts (
  organization_id uuid not null references organizations (id) on delete cascade,
  id              uuid not null default gen_random_uuid(),
  name            text check (name is null or length(name) <= 200),
  email           text check (email is null or (email = lower(email) and length(email) <= 320)),
  phone           text check (phone is null or phone ~ '^\+[1-9][0-9]{6,14}$'),
  status          text not null default 'new'
                  check (status in ('new', 'contacted', 'quoted', 'booked', 'lost')),
  source          text not null default 'manual' check (source in ('web', 'sms', 'email', 'manual')),
  tags            text[] not null default '{}',
  notes           text not null default '' check (length(notes) <= 20000),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  version         bigint not null default 1,
  primary key (organization_id, id)
);
-- Deduplication: one contact per email and per phone number within an organization.
create unique index contacts_email_key on contacts (organization_id, email) where email is not null;
create unique index contacts_phone_key on contacts (organization_id, phone) where phone is not null;
create index contacts_created_idx on contacts (organization_id, created_at, id);
create index contacts_name_idx on contacts (organization_id, lower(name) text_pattern_ops);
create trigger contacts_touch before update on contacts for each row execute function touch_row();
alter table contacts enable row level security;
alter table contacts force row level security;
create policy org_isolation on contacts
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

create table events (
  organization_id uuid not null references organizations (id) on delete cascade,
  id              uuid not null default gen_random_uuid(),
  title           text not null check (length(title) between 1 and 200),
  event_type      text not null default 'other'
                  check (event_type in ('wedding', 'corporate', 'birthday', 'school_dance',
                                        'quinceanera', 'mitzvah', 'private_party', 'club', 'other')),
  starts_at       timestamptz not null,
  ends_at         timestamptz not null,
  status          text not null default 'hold'
                  check (status in ('hold', 'booked', 'cancelled', 'completed')),
  hold_expires_at timestamptz,
  contact_id      uuid,
  venue           text check (venue is null or length(venue) <= 300),
  guest_count     integer check (guest_count is null or guest_count between 0 and 100000),
  price_cents     bigint check (price_cents is null or price_cents >= 0),
  notes           text not null default '' check (length(notes) <= 20000),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  version         bigint not null default 1,
  primary key (organization_id, id),
  foreign key (organization_id, contact_id) references contacts (organization_id, id),
  check (ends_at > starts_at),
  check (ends_at - starts_at <= interval '7 days')
);
create index events_time_idx on events (organization_id, starts_at, ends_at)
  where status in ('hold', 'booked');
create index events_created_idx on events (organization_id, created_at, id);
create trigger events_touch before update on events for each row execute function touch_row();
alter table events enable row level security;
alter table events force row level security;
create policy org_isolation on events
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

create table tasks (
  organization_id uuid not null references organizations (id) on delete cascade,
  id              uuid not null default gen_random_uuid(),
  title           text not null check (length(title) between 1 and 300),
  contact_id      uuid,
  due_at          timestamptz,
  done            boolean not null default false,
  notes           text not null default '' check (length(notes) <= 20000),
  created_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  version         bigint not null default 1,
  primary key (organization_id, id),
  foreign key (organization_id, contact_id) references contacts (organization_id, id)
);
create index tasks_created_idx on tasks (organization_id, created_at, id);
create trigger tasks_touch before update on tasks for each row execute function touch_row();
alter table tasks enable row level security;
alter table tasks force row level security;
create policy org_isolation on tasks
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

-- Durable timers (as Orleans reminders): due work lives here, survives restarts, and is run by
-- actors. kind: hold_expiry | invoice_overdue | followup_reminder; target_id: the row it acts on.
create table timers (
  organization_id uuid not null references organizations (id) on delete cascade,
  id              uuid not null default gen_random_uuid(),
  kind            text not null,
  target_id       uuid not null,
  due_at          timestamptz not null,
  payload         jsonb not null default '{}'::jsonb,
  claimed_until   timestamptz,
  attempts        integer not null default 0,
  done_at         timestamptz,
  created_at      timestamptz not null default now(),
  primary key (organization_id, id),
  unique (organization_id, kind, target_id)
);
create index timers_due_idx on timers (due_at) where done_at is null;
alter table timers enable row level security;
alter table timers force row level security;
create policy org_isolation on timers
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

-- The timer runner (no tenant) claims due timers across organizations through this door: each
-- claimed row is leased for p_lease_s seconds, so a node that dies mid-run leaves it to others.
create function claim_due_timers(p_limit integer, p_lease_s integer)
  returns table (organization_id uuid, id uuid, kind text, target_id uuid, payload jsonb,
                 attempts integer)
  language plpgsql volatile security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
begin
  perform set_config('app.platform_admin', 'on', true);
  return query
    update timers t
       set claimed_until = now() + make_interval(secs => p_lease_s), attempts = t.attempts + 1
     where (t.organization_id, t.id) in (
             select c.organization_id, c.id from timers c
              where c.done_at is null and c.due_at <= now()
                and (c.claimed_until is null or c.claimed_until < now())
              order by c.due_at
              limit p_limit
              for update skip locked)
    returning t.organization_id, t.id, t.kind, t.target_id, t.payload, t.attempts;
  perform set_config('app.platform_admin', caller_admin, true);
end $$;

-- The next due time of any pending timer (the runner sleeps until then, or its poll interval).
create function next_timer_due()
  returns timestamptz
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
  due timestamptz;
begin
  perform set_config('app.platform_admin', 'on', true);
  select min(t.due_at) into due from timers t where t.done_at is null;
  perform set_config('app.platform_admin', caller_admin, true);
  return due;
end $$;
