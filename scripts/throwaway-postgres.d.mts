export declare const POSTGRES_MISSING: string;
export declare function startThrowawayPostgres(): Promise<{ url: string; stop: () => void } | { missing: string }>;
