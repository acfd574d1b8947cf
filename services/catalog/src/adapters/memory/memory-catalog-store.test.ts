import { describeCatalogStore } from '../testing/describe-catalog-store.ts';
import { MemoryCatalogStore } from './memory-catalog-store.ts';

describeCatalogStore('MemoryCatalogStore', async () => new MemoryCatalogStore());
