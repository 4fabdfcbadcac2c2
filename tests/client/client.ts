// SPDX-License-Identifier: MIT
// A tiny typed client over the types openapi-typescript generates from
// openapi.yaml (build/client/schema.d.ts, default options): what an
// integrator writes, or gets from openapi-fetch. Only compiled (tsc --noEmit,
// scripts/check-client.sh), never run by the tests; it works as written.
import type { components, operations, paths } from "../../build/client/schema";

export type Schemas = components["schemas"];
export type Method = "get" | "put" | "post" | "patch" | "delete";
export type OperationId = keyof operations;

// The operation at a path and method, as the generated `paths` names it.
export type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M & keyof paths[P]]>;

type Params<O> = O extends { parameters: infer X } ? X : never;

// Path parameters: required when the operation has any.
type PathPart<O> = Params<O> extends { path: infer X } ? { path: X } : { path?: undefined };
// Query parameters: required when one of them is.
type QueryPart<O> = Params<O> extends { query: infer X }
	? { query: X }
	: Params<O> extends { query?: infer X }
		? { query?: X }
		: { query?: undefined };
type HeaderPart<O> = Params<O> extends { header: infer X }
	? { headers: X }
	: Params<O> extends { header?: infer X }
		? { headers?: X }
		: { headers?: undefined };
// The JSON body: required when the operation requires one.
type BodyPart<O> = O extends { requestBody?: never }
	? { body?: undefined }
	: O extends { requestBody: { content: { "application/json": infer B } } }
		? { body: B }
		: O extends { requestBody?: { content: { "application/json": infer B } } }
			? { body?: B }
			: { body?: undefined };

/** What a call sends: path, query, headers and body, each as the operation types it. */
export type Req<O> = PathPart<O> & QueryPart<O> & HeaderPart<O> & BodyPart<O>;

type SuccessStatus = 200 | 201 | 202 | 204 | "2XX";
type BodyOf<R> = R extends { content: { "application/json": infer B } }
	? B
	: R extends { content: infer C }
		? C extends Record<string, unknown>
			? C[keyof C]
			: undefined
		: undefined;

/** A success answer: its status and its body, as the contract types them. */
export type Success<O> = O extends { responses: infer R }
	? { [S in keyof R & SuccessStatus]: { ok: true; status: S; headers: Headers; body: BodyOf<R[S]> } }[keyof R &
			SuccessStatus]
	: never;
/** A failure: a problem document (RFC 9457). */
export type Failure = { ok: false; status: number; headers: Headers; body: Schemas["Problem"] };
export type Answer<O> = Success<O> | Failure;

export interface Client {
	call<P extends keyof paths, M extends Method & keyof paths[P]>(
		method: M,
		path: P,
		req: Req<Op<P, M>>,
	): Promise<Answer<Op<P, M>>>;
}

/** A client on fetch: base URL and a bearer token. */
export function client(base: string, token: string): Client {
	return {
		async call(method, path, req) {
			const r = req as {
				path?: Record<string, string>;
				query?: Record<string, string | number | boolean | undefined>;
				headers?: Record<string, string | undefined>;
				body?: unknown;
			};
			let url = String(path).replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(r.path?.[k] ?? ""));
			const q = new URLSearchParams();
			for (const [k, v] of Object.entries(r.query ?? {}))
				if (v !== undefined) q.set(k, String(v));
			if (q.toString()) url += `?${q}`;
			const headers = new Headers({ Authorization: `Bearer ${token}` });
			for (const [k, v] of Object.entries(r.headers ?? {}))
				if (v !== undefined) headers.set(k, v);
			if (r.body !== undefined) headers.set("Content-Type", "application/json");
			const res = await fetch(base + url, {
				method: String(method).toUpperCase(),
				headers,
				body: r.body === undefined ? undefined : JSON.stringify(r.body),
			});
			const type = res.headers.get("Content-Type") ?? "";
			const body = res.status === 204 ? undefined : type.includes("json") ? await res.json() : await res.text();
			return { ok: res.ok, status: res.status, headers: res.headers, body } as never;
		},
	};
}
