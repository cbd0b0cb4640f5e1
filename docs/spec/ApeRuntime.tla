----------------------------- MODULE ApeRuntime -----------------------------
(***************************************************************************)
(* The lifecycle of one APE session (DESIGN.md section 1, the transition   *)
(* table of @ape/core state-machine.ts) with authority tokens.             *)
(*                                                                         *)
(* A policy enters through constants: the exporter of @ape/verify writes a *)
(* module that EXTENDS this one and binds the constants in its .cfg:       *)
(*   Possible(t, a, p) is the set of decisions a call of action a with     *)
(*   effective label p by tenant t may get (argument conditions, limits    *)
(*   and transitions abstracted into that set).                            *)
(*                                                                         *)
(* Tokens are single-use: issued on ALLOW or on an approved ESCALATE,      *)
(* consumed by the tool call, revoked by an intent update, a new plan, a   *)
(* denied escalation and termination.                                      *)
(***************************************************************************)
EXTENDS FiniteSets

CONSTANTS
  Tenants,          \* the tenant scopes: "(base)" and every overlay
  Actions,          \* every known action, plus one standing for all others
  Provenances,      \* SYSTEM_TRUSTED, USER_TRUSTED, EXTERNAL_UNTRUSTED
  AllowSet,         \* actions some call of which the policy may ALLOW
  EscalateSet,      \* actions some call of which the policy may ESCALATE
  Possible(_, _, _) \* Possible(t, a, p) \subseteq Decisions

States == {"INITIALIZED", "INTENT_SET", "PLAN_APPROVED", "EXECUTING",
           "ESCALATION_REQUIRED", "TERMINATED"}
Decisions == {"ALLOW", "ESCALATE", "DENY"}
NoCall == [action |-> "", provenance |-> ""]
Calls == [action : Actions, provenance : Provenances]

VARIABLES
  state,     \* the runtime state
  tenant,    \* the session's tenant (fixed at creation)
  pending,   \* the call waiting for a human, or NoCall
  tokens,    \* calls holding an unconsumed token
  executed   \* calls whose tool ran (each consumed a token)

vars == <<state, tenant, pending, tokens, executed>>

TypeOK ==
  /\ state \in States
  /\ tenant \in Tenants
  /\ pending \in Calls \cup {NoCall}
  /\ tokens \subseteq Calls
  /\ executed \subseteq Calls

Init ==
  /\ state = "INITIALIZED"
  /\ tenant \in Tenants
  /\ pending = NoCall
  /\ tokens = {}
  /\ executed = {}

SetIntent ==
  /\ state = "INITIALIZED"
  /\ state' = "INTENT_SET"
  /\ UNCHANGED <<tenant, pending, tokens, executed>>

\* An intent update drops the plan and revokes every token.
UpdateIntent ==
  /\ state \in {"INTENT_SET", "PLAN_APPROVED", "EXECUTING"}
  /\ state' = "INTENT_SET"
  /\ tokens' = {}
  /\ UNCHANGED <<tenant, pending, executed>>

\* A new plan also revokes every token of the old one.
ApprovePlan ==
  /\ state \in {"INTENT_SET", "PLAN_APPROVED", "EXECUTING"}
  /\ state' = "PLAN_APPROVED"
  /\ tokens' = {}
  /\ UNCHANGED <<tenant, pending, executed>>

\* The gate starts a step: the policy decides; only ALLOW issues a token at once.
BeginStep(a, p) ==
  /\ state \in {"PLAN_APPROVED", "EXECUTING"}
  /\ \E d \in Possible(tenant, a, p) :
       \/ /\ d = "ALLOW"
          /\ state' = "EXECUTING"
          /\ tokens' = tokens \cup {[action |-> a, provenance |-> p]}
          /\ UNCHANGED pending
       \/ /\ d = "ESCALATE"
          /\ state' = "ESCALATION_REQUIRED"
          /\ pending' = [action |-> a, provenance |-> p]
          /\ UNCHANGED tokens
       \/ /\ d = "DENY"
          /\ state' = "EXECUTING"
          /\ UNCHANGED <<pending, tokens>>
  /\ UNCHANGED <<tenant, executed>>

\* A human approved the escalated call: its token is issued.
ApproveEscalation ==
  /\ state = "ESCALATION_REQUIRED"
  /\ state' = "EXECUTING"
  /\ tokens' = tokens \cup {pending}
  /\ pending' = NoCall
  /\ UNCHANGED <<tenant, executed>>

\* A denied, timed-out or failed escalation ends the session.
DenyEscalation ==
  /\ state = "ESCALATION_REQUIRED"
  /\ state' = "TERMINATED"
  /\ pending' = NoCall
  /\ tokens' = {}
  /\ UNCHANGED <<tenant, executed>>

\* The tool runs: its token is consumed (single use).
Execute(call) ==
  /\ state = "EXECUTING"
  /\ call \in tokens
  /\ tokens' = tokens \ {call}
  /\ executed' = executed \cup {call}
  /\ UNCHANGED <<state, tenant, pending>>

Terminate ==
  /\ state # "TERMINATED"
  /\ state' = "TERMINATED"
  /\ pending' = NoCall
  /\ tokens' = {}
  /\ UNCHANGED <<tenant, executed>>

Next ==
  \/ SetIntent
  \/ UpdateIntent
  \/ ApprovePlan
  \/ \E a \in Actions, p \in Provenances : BeginStep(a, p)
  \/ ApproveEscalation
  \/ DenyEscalation
  \/ \E call \in tokens : Execute(call)
  \/ Terminate

Spec == Init /\ [][Next]_vars

(***************************************************************************)
(* Invariants                                                              *)
(***************************************************************************)

\* No action outside ALLOW \cup ESCALATE ever holds or used a token.
TokenInvariant ==
  \A call \in tokens \cup executed : call.action \in AllowSet \cup EscalateSet

\* Termination revokes every outstanding token.
NoTokenAfterTermination == state = "TERMINATED" => tokens = {}

\* A pending escalation exists exactly in ESCALATION_REQUIRED.
EscalationHasPendingCall == (state = "ESCALATION_REQUIRED") <=> (pending # NoCall)

=============================================================================
