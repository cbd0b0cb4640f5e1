import { runTokenStoreContract } from '@ape/core/contracts';
import { InMemoryTokenStore } from './in-memory-token-store.js';

runTokenStoreContract(() => new InMemoryTokenStore(), { name: 'InMemoryTokenStore' });
