import { DynamicModule, Module } from '@nestjs/common';

@Module({})
export class SchedulerModule {
  static register(platform: DynamicModule): DynamicModule {
    return { module: SchedulerModule, imports: [platform] };
  }
}
