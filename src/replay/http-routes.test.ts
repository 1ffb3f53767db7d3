import { describe, expect, it } from 'vitest';
import type { ToolCatalog } from '../trace/catalog.js';
import { createRouteMatcher } from './http-routes.js';

const catalog: ToolCatalog = {
  tools: [
    {
      name: 'get_order',
      effect: 'read',
      parameters: { type: 'object', properties: { order_id: { type: 'string' }, expand: { type: 'boolean' } } },
      http: { method: 'GET', url: 'https://orders.internal/api/orders/:order_id' },
    },
    {
      name: 'check_refund_policy',
      effect: 'read',
      parameters: { type: 'object', properties: { order_id: { type: 'string' }, amount: { type: 'number' } } },
      http: { method: 'GET', url: 'https://refunds.internal/api/policy/:order_id' },
    },
    {
      name: 'add_note',
      effect: 'write-reversible',
      http: { method: 'POST', url: 'https://support.internal:8443/api/tickets/:ticket_id/notes' },
    },
    { name: 'no_route', effect: 'read' },
  ],
};
const match = createRouteMatcher(catalog);
const at = (method: string, url: string, body: unknown = null) => match(method, new URL(url), body);

describe('catalog http routes', () => {
  it('takes path parameters as arguments, decoded, and the declared query parameters typed by the schema', () => {
    expect(at('GET', 'https://orders.internal/api/orders/ORD%2F1?expand=true')).toEqual({ tool: 'get_order', args: { order_id: 'ORD/1', expand: true } });
    // A query parameter the schema does not declare (a token) is no argument, and so never recorded.
    expect(at('GET', 'https://orders.internal/api/orders/ORD-1?access_token=s3cret&expand=false')).toEqual({ tool: 'get_order', args: { order_id: 'ORD-1', expand: false } });
    expect(at('get', 'https://refunds.internal/api/policy/ORD-1?amount=12.50')).toEqual({ tool: 'check_refund_policy', args: { order_id: 'ORD-1', amount: 12.5 } });
    // A value that is not a number where the schema asks for one stays as it came: the schema check refuses it.
    expect(at('GET', 'https://refunds.internal/api/policy/ORD-1?amount=lots')!.args.amount).toBe('lots');
  });

  it('merges a JSON object body into the arguments', () => {
    expect(at('POST', 'https://support.internal:8443/api/tickets/T-1/notes', { note: 'hi' })).toEqual({ tool: 'add_note', args: { ticket_id: 'T-1', note: 'hi' } });
    expect(at('POST', 'https://support.internal:8443/api/tickets/T-1/notes', ['not', 'an', 'object'])).toEqual({ tool: 'add_note', args: { ticket_id: 'T-1' } });
  });

  it('matches nothing on another method, origin, port or path', () => {
    expect(at('POST', 'https://orders.internal/api/orders/ORD-1')).toBeNull();
    expect(at('GET', 'http://orders.internal/api/orders/ORD-1')).toBeNull();
    expect(at('GET', 'https://orders.internal.evil.example/api/orders/ORD-1')).toBeNull();
    expect(at('POST', 'https://support.internal/api/tickets/T-1/notes')).toBeNull();
    expect(at('GET', 'https://orders.internal/api/orders/ORD-1/items')).toBeNull();
    expect(at('GET', 'https://orders.internal/api/orders')).toBeNull();
  });
});
