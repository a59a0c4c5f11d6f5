import { DynamicModule, Module } from '@nestjs/common';

@Module({})
export class InboundModule {
  static register(platform: DynamicModule): DynamicModule {
    return { module: InboundModule, imports: [platform] };
  }
}
