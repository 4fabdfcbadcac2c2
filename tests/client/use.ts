// SPDX-License-Identifier: MIT
// A typed use of every operation of openapi.yaml (scripts/check-client.sh):
// each builds its request from the generated types (requests with only the
// members the service requires, so that a member with a default that turned
// required fails here) and reads members of its success answer that the
// contract says are always there. `uses` is keyed by every operationId:
// TypeScript fails when an operation is missing or unknown.
import type { operations } from "../../build/client/schema";
import { client, type Answer, type Client, type OperationId, type Req, type Schemas, type Success } from "./client";

/** Reads a member as exactly T: a member typed optional or nullable where T is not fails. */
function is<T>(v: T): T {
	return v;
}

const caseId = "cc_01JD8ZK5V3Q4N7M2X9R6T1W0YB";
const endpointId = "we_01JDC3Q9R5S6T7V8W9X0Y1Z2A3";

// The least a case needs: every member with a default or a null left out.
const minimalCase: Schemas["CaseInput"] = {
	invoice: {
		number: "202600145",
		issued_on: "2026-01-01",
		due_on: "2026-01-15",
		currency: "NOK",
		original_amount: 124900,
		outstanding_amount: 124900,
	},
	debtor: {
		name: "Kari Nordmann",
		address: { line1: "Storgata 1", postal_code: "0155", city: "Oslo", country: "NO" },
	},
};
const fullCase: Schemas["CaseInput"] = {
	your_reference: "cus_551",
	service: "collection",
	invoice: {
		...minimalCase.invoice,
		fees: 3500,
		description: null,
		payment_reference: "RF71234567890123456789",
		reminders: [{ sent_on: "2026-01-30" }, { sent_on: "2026-02-05", fee: 3500 }],
		disputed: false,
	},
	debtor: {
		...minimalCase.debtor,
		customer_type: "consumer",
		national_id: null,
		extra_fields: [{ purpose: "phone_number", value: "912 34 567" }, { purpose: "segment" }],
		address: { ...minimalCase.debtor.address, line2: null },
	},
};

// Every optional member null: the service reads null as left out, and the types say so.
const nullCase: Schemas["CaseInput"] = {
	your_reference: null,
	service: null,
	invoice: {
		...minimalCase.invoice,
		fees: null,
		description: null,
		payment_reference: null,
		reminders: [{ sent_on: "2026-01-30", fee: null }],
		disputed: null,
	},
	debtor: {
		customer_number: null,
		customer_type: null,
		name: "Kari Nordmann",
		business_name: null,
		org_number: null,
		national_id: null,
		date_of_birth: null,
		email: null,
		phone: null,
		extra_fields: [{ purpose: "segment", value: null }],
		language: null,
		address: { ...minimalCase.debtor.address, line2: null },
	},
};
const nullLists: Schemas["InvoiceInput"]["reminders"] | Schemas["DebtorInput"]["extra_fields"] = null;
// A required member is never null (the service answers 422 required): the types refuse it.
const nullRequired: Schemas["CaseInput"] = {
	// @ts-expect-error invoice.number is required and not nullable
	invoice: { ...minimalCase.invoice, number: null },
	debtor: minimalCase.debtor,
};

function readCase(c: Schemas["Case"]): void {
	is<string>(c.id);
	is<Schemas["CaseStatus"]>(c.status);
	is<string | null>(c.stage);
	is<string | null>(c.agency_case_id);
	is<number>(c.invoice.fees);
	is<string>(c.invoice.due_on);
	is<boolean>(c.invoice.disputed);
	is<number>(c.invoice.reminders[0].fee);
	is<string | null>(c.debtor.national_id);
	is<string | null>(c.debtor.phone);
	is<string | null>(c.debtor.extra_fields[0].value);
	is<string | null>(c.debtor.address.line2);
	is<number>(c.balance.remaining);
	is<string | null>(c.submitted_at);
}

function readEvent(e: Schemas["Event"]): void {
	is<string>(e.id);
	is<number>(e.sequence);
	is<string | null>(e.actor ? e.actor.request_id : null);
	switch (e.type) {
		case "case.created":
			is<number>(e.data.balance.remaining);
			break;
		case "case.status_changed":
			is<Schemas["CaseStatus"]>(e.data.previous_status);
			break;
		case "case.payment_received":
			is<number>(e.data.payment.applied);
			break;
		case "settlement.created":
			is<string>(e.data.agency_settlement_id);
			break;
		default:
			is<string>(e.created_at);
	}
}

function readEndpoint(w: Schemas["WebhookEndpoint"]): void {
	is<string>(w.id);
	is<string>(w.description);
	is<boolean>(w.enabled);
	is<"gone" | "failing" | null>(w.disabled_reason);
}

type Uses = {
	[K in OperationId]: K extends "receiveEvent"
		? (req: Req<operations[K]>) => Success<operations[K]>["status"]
		: (c: Client) => Promise<Answer<operations[K]>>;
};

export const uses: Uses = {
	getHealth: async (c) => {
		const a = await c.call("get", "/healthz", {});
		if (a.ok) is<"ok">(a.body.status);
		return a;
	},
	getReadiness: async (c) => {
		const a = await c.call("get", "/readyz", { headers: { "X-Request-Id": "req-1" } });
		if (a.ok) is<"ready">(a.body.status);
		return a;
	},
	getMetrics: async (c) => {
		const a = await c.call("get", "/metrics", {});
		if (a.ok) is<string>(a.body);
		return a;
	},
	getOpenApi: async (c) => {
		const a = await c.call("get", "/openapi.yaml", {});
		if (a.ok) is<string>(a.body);
		return a;
	},
	listProblemTypes: async (c) => {
		const a = await c.call("get", "/problems", {});
		if (a.ok) is<string>(a.body.data[0].what_to_do);
		return a;
	},
	getProblemType: async (c) => {
		const a = await c.call("get", "/problems/{code}", { path: { code: "validation_failed" } });
		if (a.ok) is<number>(a.body.status);
		return a;
	},
	getAgencySettings: async (c) => {
		const a = await c.call("get", "/v1/agency-settings", {});
		if (a.ok) {
			is<boolean>(a.body.api_key_set);
			is<boolean | null>(a.body.api_key_valid);
			is<Schemas["AgencyEnvironment"]>(a.body.agency_environment);
		}
		return a;
	},
	putAgencySettings: async (c) => {
		// Every member but creditor_reference has a default (api_key: the stored one).
		const a = await c.call("put", "/v1/agency-settings", { body: { creditor_reference: "913456789", api_key: "k" } });
		await c.call("put", "/v1/agency-settings", { body: { creditor_reference: "913456789" } });
		await c.call("put", "/v1/agency-settings", {
			body: { creditor_reference: "913456789", min_days_overdue: 20, enabled: false, agency_environment: "staging" },
		});
		// Null is left out: each member takes its default (api_key: the stored one).
		await c.call("put", "/v1/agency-settings", {
			body: {
				creditor_reference: "913456789",
				api_key: null,
				service: null,
				customer_type: null,
				min_days_overdue: null,
				reminder_wait_days: null,
				min_amount: null,
				enabled: null,
				agency_environment: null,
			},
		});
		if (a.ok) {
			is<number>(a.body.min_days_overdue);
			is<string | null>(a.body.actor ? a.body.actor.sub : null);
		}
		return a;
	},
	createCase: async (c) => {
		const a = await c.call("post", "/v1/collection-cases", {
			body: minimalCase,
			headers: { "Idempotency-Key": "k-1" },
		});
		await c.call("post", "/v1/collection-cases", { body: fullCase });
		await c.call("post", "/v1/collection-cases", { body: nullCase });
		await c.call("post", "/v1/collection-cases", { body: nullRequired });
		is<null>(nullLists);
		if (a.ok) readCase(a.body);
		return a;
	},
	listCases: async (c) => {
		const a = await c.call("get", "/v1/collection-cases", { query: { state: "open", status: "pending", limit: 10 } });
		await c.call("get", "/v1/collection-cases", {});
		if (a.ok && typeof a.body !== "string") {
			is<boolean>(a.body.has_more);
			is<string | null>(a.body.next_cursor);
			a.body.data.forEach(readCase);
		}
		return a;
	},
	previewCase: async (c) => {
		const a = await c.call("post", "/v1/collection-cases/preview", { body: minimalCase });
		if (a.ok) {
			is<string>(a.body.earliest_send_date);
			is<null>(a.body.id);
			is<number>(a.body.invoice.fees);
		}
		return a;
	},
	getCase: async (c) => {
		const a = await c.call("get", "/v1/collection-cases/{id}", { path: { id: caseId } });
		if (a.ok) {
			readCase(a.body);
			is<number | null>(a.body.delivery ? a.body.delivery.attempts : null);
			is<boolean>(a.body.payments[0].forwarded);
			is<string>(a.body.actions[0].state);
			is<string>(a.body.settlements[0].settlement_id);
			is<Schemas["CaseStatus"]>(a.body.events[0].to);
		}
		return a;
	},
	createPayment: async (c) => {
		// kind defaults to payment, reference to none.
		const a = await c.call("post", "/v1/collection-cases/{id}/payments", {
			path: { id: caseId },
			body: { amount: 25000, paid_on: "2026-02-09" },
		});
		await c.call("post", "/v1/collection-cases/{id}/payments", {
			path: { id: caseId },
			body: { kind: "credit_note", amount: 100, paid_on: "2026-02-09", reference: null },
		});
		await c.call("post", "/v1/collection-cases/{id}/payments", {
			path: { id: caseId },
			body: { kind: null, amount: 100, paid_on: "2026-02-09" },
		});
		if (a.ok) {
			is<"payment" | "credit_note">(a.body.kind);
			is<number>(a.body.applied);
		}
		return a;
	},
	createAction: async (c) => {
		const a = await c.call("post", "/v1/collection-cases/{id}/actions", { path: { id: caseId }, body: { type: "pause" } });
		await c.call("post", "/v1/collection-cases/{id}/actions", {
			path: { id: caseId },
			body: { type: "comment", comment: null },
		});
		if (a.ok) {
			is<Schemas["ActionType"]>(a.body.type);
			is<string | null>(a.body.comment);
		}
		return a;
	},
	retryCase: async (c) => {
		const a = await c.call("post", "/v1/collection-cases/{id}/retry", { path: { id: caseId } });
		if (a.ok) is<Schemas["CaseStatus"]>(a.body.status);
		return a;
	},
	listSettlements: async (c) => {
		const a = await c.call("get", "/v1/settlements", { query: { settled_from: "2026-01-01" } });
		if (a.ok && typeof a.body !== "string") is<string | null>(a.body.data[0].allocations[0].case_id);
		return a;
	},
	getSettlement: async (c) => {
		const a = await c.call("get", "/v1/settlements/{id}", { path: { id: "st_01JDB2P8Q4R5S6T7V8W9X0Y1Z2" } });
		if (a.ok) is<number>(a.body.amount);
		return a;
	},
	listEvents: async (c) => {
		const a = await c.call("get", "/v1/events", { query: { type: "case.created", limit: 100 } });
		if (a.ok) {
			a.body.data.forEach(readEvent);
			is<string | null>(a.body.next_cursor);
		}
		return a;
	},
	getEvent: async (c) => {
		const a = await c.call("get", "/v1/events/{id}", { path: { id: "evt_01JD8ZK5V4A1B2C3D4E5F6G7H8" } });
		if (a.ok) readEvent(a.body);
		return a;
	},
	createWebhookEndpoint: async (c) => {
		// description defaults to "", enabled to true.
		const a = await c.call("post", "/v1/webhook-endpoints", {
			body: { url: "https://billing.example.com/hooks/inkasso", event_types: ["*"] },
		});
		await c.call("post", "/v1/webhook-endpoints", {
			body: { url: "https://billing.example.com/hooks/b", event_types: ["*"], description: null, enabled: null },
		});
		if (a.ok) {
			readEndpoint(a.body);
			is<string>(a.body.secret);
		}
		return a;
	},
	listWebhookEndpoints: async (c) => {
		const a = await c.call("get", "/v1/webhook-endpoints", {});
		if (a.ok) a.body.data.forEach(readEndpoint);
		return a;
	},
	getWebhookEndpoint: async (c) => {
		const a = await c.call("get", "/v1/webhook-endpoints/{id}", { path: { id: endpointId } });
		if (a.ok) readEndpoint(a.body);
		return a;
	},
	updateWebhookEndpoint: async (c) => {
		const a = await c.call("patch", "/v1/webhook-endpoints/{id}", { path: { id: endpointId }, body: { enabled: true } });
		await c.call("patch", "/v1/webhook-endpoints/{id}", {
			path: { id: endpointId },
			body: { url: null, event_types: null, description: null, enabled: null },
		});
		if (a.ok) readEndpoint(a.body);
		return a;
	},
	deleteWebhookEndpoint: async (c) => {
		const a = await c.call("delete", "/v1/webhook-endpoints/{id}", { path: { id: endpointId } });
		if (a.ok) is<204>(a.status);
		return a;
	},
	rotateWebhookSecret: async (c) => {
		const a = await c.call("post", "/v1/webhook-endpoints/{id}/rotate-secret", { path: { id: endpointId } });
		if (a.ok) is<string>(a.body.secret);
		return a;
	},
	testWebhookEndpoint: async (c) => {
		const a = await c.call("post", "/v1/webhook-endpoints/{id}/test", { path: { id: endpointId } });
		if (a.ok) is<string>(a.body.event_id);
		return a;
	},
	listWebhookDeliveries: async (c) => {
		const a = await c.call("get", "/v1/webhook-endpoints/{id}/deliveries", {
			path: { id: endpointId },
			query: { status: "failed" },
		});
		if (a.ok) {
			is<number | null>(a.body.data[0].status_code);
			is<string | null>(a.body.data[0].next_attempt_at);
		}
		return a;
	},
	recoverWebhookEndpoint: async (c) => {
		const a = await c.call("post", "/v1/webhook-endpoints/{id}/recover", {
			path: { id: endpointId },
			body: { since: "2026-03-01T00:00:00Z" },
		});
		if (a.ok) is<number>(a.body.queued);
		return a;
	},
	// inkasso calls the integrator: a receiver typed from the webhook's request.
	receiveEvent: (req) => {
		is<string>(req.headers["webhook-signature"]);
		if (req.body.type !== "webhook.test") readEvent(req.body);
		else is<string>(req.body.data.message);
		return "2XX";
	},
};

export const demo = (base: string, token: string) => uses.getCase(client(base, token));
