import { runTokenStoreContract } from '@ape/core/testing';
import { InMemoryTokenStore } from './in-memory-token-store.js';

runTokenStoreContract(() => new InMemoryTokenStore(), { name: 'InMemoryTokenStore' });
