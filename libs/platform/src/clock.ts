import { Injectable } from '@nestjs/common';

/** The time source; services take it by injection so tests can pin "now". */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
