import { DynamicModule, Module } from '@nestjs/common';

@Module({})
export class ApiModule {
  static register(platform: DynamicModule): DynamicModule {
    return { module: ApiModule, imports: [platform] };
  }
}
