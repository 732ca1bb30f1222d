-- Contracts for events: the text is filled from a template once, at creation, and never changes;
-- sending creates a secret link (only its SHA-256 is stored) through which the client reads and
-- e-signs without an account. A signed contract is immutable, enforced here and not only in code.

create table contracts (
  organization_id   uuid not null references organizations (id) on delete cascade,
  id                uuid not null default gen_random_uuid(),
  event_id          uuid not null,
  contact_id        uuid,
  title             text not null check (length(title) between 1 and 200),
  body              text not null check (length(body) between 1 and 200000),
  status            text not null default 'draft'
                    check (status in ('draft', 'sent', 'signed', 'void')),
  link_token_hash   text check (link_token_hash ~ '^[0-9a-f]{64}$'),
  sent_at           timestamptz,
  signed_at         timestamptz,
  signer_name       text check (length(signer_name) between 1 and 200),
  signer_ip         text check (length(signer_ip) <= 100),
  signer_user_agent text check (length(signer_user_agent) <= 512),
  signed_sha256     text check (signed_sha256 ~ '^[0-9a-f]{64}$'),
  voided_at         timestamptz,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  version           bigint not null default 1,
  primary key (organization_id, id),
  foreign key (organization_id, event_id) references events (organization_id, id),
  foreign key (organization_id, contact_id) references contacts (organization_id, id),
  -- A signature is complete or absent, and its hash is the hash of the text as stored.
  check ((status = 'signed') = (signed_at is not null and signer_name is not null
                                and signed_sha256 is not null)),
  check (signed_sha256 is null or signed_sha256 = encode(sha256(convert_to(body, 'UTF8')), 'hex')),
  check (status = 'void' or (status = 'draft') = (sent_at is null)),
  check (status in ('sent', 'signed') or link_token_hash is null)
);
create unique index contracts_link_token_key on contracts (link_token_hash)
  where link_token_hash is not null;
create index contracts_created_idx on contracts (organization_id, created_at, id);
create index contracts_event_idx on contracts (organization_id, event_id);
create trigger contracts_touch before update on contracts for each row execute function touch_row();
alter table contracts enable row level security;
alter table contracts force row level security;
create policy org_isolation on contracts
  using (organization_id = app_org_id() or app_is_platform_admin())
  with check (organization_id = app_org_id() or app_is_platform_admin());

-- Immutability, for every role and every code path: the text never changes; a signed or void
-- contract never changes again and a signed one is never deleted. SQLSTATE ZC409 (application
-- class Z, "contract conflict") is what the contract operations map to 409.
create function contracts_guard() returns trigger
  language plpgsql
  as $$
begin
  if tg_op = 'DELETE' then
    if old.status = 'signed' then
      raise exception 'a signed contract cannot be deleted' using errcode = 'ZC409';
    end if;
    return old;
  end if;
  if old.status = 'signed' then
    raise exception 'a signed contract cannot be changed' using errcode = 'ZC409';
  end if;
  if old.status = 'void' then
    raise exception 'a void contract cannot be changed' using errcode = 'ZC409';
  end if;
  if new.body is distinct from old.body or new.event_id is distinct from old.event_id
     or new.organization_id is distinct from old.organization_id then
    raise exception 'a contract''s text and event are fixed at creation' using errcode = 'ZC409';
  end if;
  return new;
end $$;
create trigger contracts_guard before update or delete on contracts
  for each row execute function contracts_guard();

-- The client's door, by the link's token hash: title, text, status and the organization's name
-- of a sent or signed contract (a draft has no link; voiding kills it).
create function public_contract_by_token(p_token_hash text)
  returns table (title text, body text, status text, organization_name text,
                 sent_at timestamptz, signed_at timestamptz, signer_name text,
                 signed_sha256 text)
  language plpgsql stable security definer
  set search_path = public, pg_temp
  as $$
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
begin
  perform set_config('app.platform_admin', 'on', true);
  return query
    select c.title, c.body, c.status, o.name, c.sent_at, c.signed_at, c.signer_name,
           c.signed_sha256
      from contracts c join organizations o on o.id = c.organization_id
     where c.link_token_hash = p_token_hash and c.status in ('sent', 'signed');
  perform set_config('app.platform_admin', caller_admin, true);
end $$;

-- Signs the contract behind a link: outcome 'signed' with the signature, 'already_signed', or no
-- row when the link is unknown or dead. The row lock makes concurrent signatures take turns, and
-- the hash is taken of the stored text in the same statement that records the signature.
create function public_contract_sign(p_token_hash text, p_name text, p_ip text, p_user_agent text)
  returns table (outcome text, title text, status text, signed_at timestamptz, signer_name text,
                 signer_ip text, signer_user_agent text, signed_sha256 text)
  language plpgsql volatile security definer
  set search_path = public, pg_temp
  as $$
#variable_conflict use_column
declare
  caller_admin text := coalesce(current_setting('app.platform_admin', true), '');
  found_org uuid;
  found_id uuid;
  found_status text;
begin
  perform set_config('app.platform_admin', 'on', true);
  select c.organization_id, c.id, c.status into found_org, found_id, found_status
    from contracts c
   where c.link_token_hash = p_token_hash and c.status in ('sent', 'signed')
   for update;
  if found_id is null then
    perform set_config('app.platform_admin', caller_admin, true);
    return;
  end if;
  if found_status = 'signed' then
    return query select 'already_signed'::text, c.title, c.status, c.signed_at, c.signer_name,
                        c.signer_ip, c.signer_user_agent, c.signed_sha256
                   from contracts c where c.organization_id = found_org and c.id = found_id;
  else
    return query
      update contracts c
         set status = 'signed', signed_at = now(), signer_name = p_name, signer_ip = p_ip,
             signer_user_agent = p_user_agent,
             signed_sha256 = encode(sha256(convert_to(c.body, 'UTF8')), 'hex')
       where c.organization_id = found_org and c.id = found_id
      returning 'signed'::text, c.title, c.status, c.signed_at, c.signer_name, c.signer_ip,
                c.signer_user_agent, c.signed_sha256;
  end if;
  perform set_config('app.platform_admin', caller_admin, true);
end $$;
