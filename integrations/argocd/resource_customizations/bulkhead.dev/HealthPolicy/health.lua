-- Argo CD health check for bulkhead.dev/HealthPolicy (Bulkhead ADR 1603).
-- The status is kstatus-compatible: the engine's leader writes a Ready condition with
-- observedGeneration, status.observedGeneration and matchedPods
-- (engine/src/runtime/health-policy-status.ts, ADR 1601); the executor writes budget.
--   Ready=True at this generation -> Healthy (Suspended while the budget's circuit breaker is
--   open: the policy takes no further action until it closes)
--   Ready=False                   -> Degraded (the policy is not enforced as written)
--   no status yet, Ready=Unknown, or a status of an older generation -> Progressing
-- Written for Argo CD's default VM for argocd-cm scripts: base and table only, no string.*.
local hs = {}
local generation = obj.metadata.generation or 0

local function condition(status, kind)
  if status == nil or status.conditions == nil then
    return nil
  end
  for _, c in ipairs(status.conditions) do
    if c.type == kind then
      return c
    end
  end
  return nil
end

local ready = condition(obj.status, "Ready")
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the Bulkhead engine to accept generation " .. generation
  return hs
end
local observed = ready.observedGeneration or obj.status.observedGeneration
if observed == nil or observed < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the Bulkhead engine to accept generation " .. generation
    .. " (status describes generation " .. tostring(observed) .. ")"
  return hs
end

local detail = ready.message or ""
if ready.reason ~= nil then
  detail = ready.reason .. ": " .. detail
end
if ready.status == "False" then
  hs.status = "Degraded"
  hs.message = detail
  return hs
end
if ready.status ~= "True" then
  hs.status = "Progressing"
  hs.message = detail
  return hs
end

local budget = obj.status.budget
if budget ~= nil and budget.exhausted == true then
  hs.status = "Suspended"
  hs.message = "Budget exhausted: no further actions until it frees ("
    .. (budget.quarantined or 0) .. " pods quarantined, "
    .. (budget.actionsLastHour or 0) .. " actions in the last hour)"
  return hs
end
hs.status = "Healthy"
hs.message = detail .. "; " .. (obj.status.matchedPods or 0) .. " pods matched"
if obj.spec.action ~= nil and obj.spec.action.mode == "DryRun" then
  hs.message = hs.message .. "; DryRun: records what it would do, acts on no pod"
end
return hs
