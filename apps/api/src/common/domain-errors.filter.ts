import { type ArgumentsHost, Catch, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { LetterCommandError } from '@mz/domain';
import { ScheduleError } from '@mz/schedule';

/** Domain refusals become HTTP answers: not found → 404, conflict → 409, bad schedule → 400. */
@Catch(LetterCommandError, ScheduleError)
export class DomainErrorsFilter implements ExceptionFilter {
  catch(err: LetterCommandError | ScheduleError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const status = err instanceof ScheduleError ? 400 : err.kind === 'not_found' ? 404 : 409;
    const error = status === 400 ? 'Bad Request' : status === 404 ? 'Not Found' : 'Conflict';
    // Messages name ids and reasons, never personal data.
    res.status(status).json({ statusCode: status, error, message: err.message });
  }
}
