import { runService } from '@mz/platform';
import { API_SERVICE } from './api.definition';

runService(API_SERVICE);
